"""The workflow of a shift and of cooperation between agencies and centres.

The shift: notifications (``notifications``), the validation queue, alerts as
work, tasks, duty log. Cooperation (docs/cooperation.md): directory
(``directory``), requests for information and assistance (``requests``),
attached files (``attachments``), joint operations (``joint``) and discussion
threads (``threads``). Each is a kind of record written through the one write
path and shared only through the sharing function. Knows no HTTP.
"""
