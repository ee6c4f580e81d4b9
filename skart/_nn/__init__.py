"""The method-neutral core of skart's network estimators."""
