"""Issue 13 (store side): a device switched to another format before it
sent any item (``format=sif`` refused, see engine/_format.py) is remembered
by a format row with no type of its own and the type it takes."""

from __future__ import annotations

from syncml_codec.store import DeviceFormat, Store


def test_a_switch_before_any_item_is_remembered(store: Store) -> None:
    phone = store.device("test", "switched-1")
    taken = DeviceFormat("", accepts="text/x-vcard")
    store.set_device_format(phone, "Contacts", taken)
    assert store.device_format(phone, "Contacts") == taken
    (state,) = store.device_state(phone)
    assert state.datastore == "Contacts" and state.format == taken
    sent = DeviceFormat("text/x-s4j-sifc", "text/x-s4j-sifc", "1.1", "b64", accepts="text/x-vcard")
    store.set_device_format(phone, "Contacts", sent)  # then it sends SIF: what it takes stays
    assert store.device_format(phone, "Contacts") == sent
