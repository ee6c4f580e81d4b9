"""AutoSMOTE: oversampling decisions learned end to end."""
