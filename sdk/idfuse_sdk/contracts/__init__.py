"""Compiled registry contracts shipped as package data, and their bindings."""
