"""The shift's workflow: notifications, the validation queue, alerts as work, tasks, duty log."""
