"""Site collectors: Celery workers inside clients' networks that collect for the central side.

``names``: what a collector may be called and the broker names derived from it (queue, user);
``broker``: its broker identity on RabbitMQ (provision, remove). See docs/collectors.md.
Importing this package loads neither Celery nor kombu: the inventory uses ``names``.
"""
