"""Sub-commands of the `watchkeeper` CLI."""
