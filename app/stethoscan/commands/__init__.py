"""The headless sub-commands of ``stethoscan``. Each module has ``register(subparsers)``.

Modules import heavy libraries inside their handlers only, so ``stethoscan --help`` stays fast.
"""
