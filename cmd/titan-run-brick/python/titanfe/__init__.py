"""titanfe — the brick API of the titan flow engine, as provided by titan-run-brick.

Bricks written for the original titanfe run unmodified:

* ``titanfe.brick``: BrickBase, InletBrickBase, ConfigurationError
* ``titanfe.ujo_helper``: python_to_ujo, ujo_to_python, py_to_ujo_bytes,
  ujo_bytes_to_py (and the ``ujotypes`` module for the UJO value classes)
* the adapter handed to ``Brick(adapter, parameters)``: emit_new_packet,
  log, decrypt_parameter, state, meta (``titanfe.adapter``)
"""
