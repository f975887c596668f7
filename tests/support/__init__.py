"""Real parts for the tests: a private redis-server and fixture web sites on loopback."""
