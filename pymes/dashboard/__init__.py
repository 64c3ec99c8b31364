"""The dashboard: loyalty figures a shop owner reads in ten seconds (issue 9)."""
