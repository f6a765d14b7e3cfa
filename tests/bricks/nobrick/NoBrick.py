"""A module without a Brick class."""


class Brik:
    pass
