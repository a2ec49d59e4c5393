"""Exchange between nodes: identities, sharing agreements, the sharing function, envelopes."""
