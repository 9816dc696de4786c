"""Trying a model live: the try-it service that keeps runs loaded (service.py), its
socket protocol (protocol.py), the client the dashboard and `agerec predict` use
(client.py) and the glue from a recorded run to answers (answers.py)."""
