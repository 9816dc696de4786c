"""Tables, sessions, settings and artifact paths. No TensorFlow here."""
