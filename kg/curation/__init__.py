"""What curators run: validation, the derived summary layer, canonical formatting, diffs, stats and releases."""
