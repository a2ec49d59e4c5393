"""Standards at the edges: CoT/TAK, MQTT sensors, STIX/TAXII, CAP, OGC API Features, spreadsheets.

Each module speaks one outside format and maps it onto the node's own records.
What leaves the node through an edge is decided by the sharing function
(:func:`sitcen.exchange.sharing.share`) alone; no module here knows a route.
"""
