"""scopecheck.capture: repeatable shots from UVC microscopes and from recordings."""
