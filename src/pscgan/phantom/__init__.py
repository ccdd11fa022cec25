"""The numerical cine + LGE phantom: anatomy, motion, scar, contrast, acquisition, cohorts, validation."""
