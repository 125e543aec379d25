"""What crosses the core's boundary: commands in, events out, rejection codes and the wire codec.

`codec` knows every command, event and wire parser of every module (`catalog` lists them): nothing
registers itself by being imported.
"""
