"""Thin HTTP controllers: decode, call the engine on the writer or a reader, return a Struct."""
