"""The web workstation (`scopecheck serve`) and the self-contained HTML compare report."""
