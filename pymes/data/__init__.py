"""A business's ownership of its data: the full export, deletion and purge (DATA-3)."""
