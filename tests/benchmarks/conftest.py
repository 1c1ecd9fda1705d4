from .scripts import add_script_dirs

add_script_dirs()  # the smoke tests import the scripts by name (import tweedie_gain), as their own folder would
