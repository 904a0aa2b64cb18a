"""The demo business: a generated world (`demo.world`) and stand-ins for its source systems
(`demo.sim`). No production code imports this package; `pebble up` wires it in a demo home."""
