"""Focus RT (Focus 8/9 ERP) connector: REST client, normalisation and warehouse landing."""
