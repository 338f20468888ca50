"""What a person or a script receives: formats, labels, masking, `--where`, atomic files, layout."""
