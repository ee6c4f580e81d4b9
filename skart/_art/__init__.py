"""ART: adaptive resampling by per-class validation scores."""
