"""The workflow of a shift and of cooperation between agencies and centres.

Directory (``directory``), requests for information and assistance
(``requests``), attached files (``attachments``), joint operations
(``joint``) and discussion threads (``threads``): each a kind of record
written through the one write path and shared only through the sharing
function. Knows no HTTP.
"""
