"""Layer 3: device information (DevInf 1.0, 1.1 and 1.2) and capability
negotiation.

Immutable typed classes read from and written to codec element trees,
losslessly (``DevInf.from_element(e).to_element() == e``), standalone
DevInf documents in WBXML or XML, and DevInf found in SyncML messages::

    >>> from syncml_codec.devinf import ContentType, DataStore, negotiate
    >>> server = DataStore("./contacts",
    ...     rx_pref=(ContentType("text/vcard", "3.0"),), rx=(ContentType("text/x-vcard", "2.1"),),
    ...     tx_pref=(ContentType("text/vcard", "3.0"),), tx=(ContentType("text/x-vcard", "2.1"),))
    >>> client = DataStore("./addressbook",
    ...     rx_pref=(ContentType("text/x-vcard", "2.1"),), tx_pref=(ContentType("text/x-vcard", "2.1"),))
    >>> str(negotiate(server, client).to_client)
    'text/x-vcard 2.1'
"""

from ._caps import Capabilities
from ._convert import convert_devinf, infer_version, to_flat, to_nested
from ._ctcap import CTCap, Property, PropParam, ctcaps_from_element
from ._datastore import ContentType, DataStore, DSMem, FilterCap, norm_type, norm_version
from ._devinf import VERSIONS, DevInf, Ext
from ._find import FoundDevInf, devinf_documents, find_devinf
from ._negotiate import Negotiation, negotiate

__all__ = [
    "VERSIONS",
    "CTCap",
    "Capabilities",
    "ContentType",
    "DSMem",
    "DataStore",
    "DevInf",
    "Ext",
    "FilterCap",
    "FoundDevInf",
    "Negotiation",
    "PropParam",
    "Property",
    "convert_devinf",
    "ctcaps_from_element",
    "devinf_documents",
    "find_devinf",
    "infer_version",
    "negotiate",
    "norm_type",
    "norm_version",
    "to_flat",
    "to_nested",
]
