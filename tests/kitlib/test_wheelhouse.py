"""kitlib.wheelhouse splits the locks' pins among parallel downloads: each pin must reach exactly one of them."""
from kitlib import wheelhouse


def test_every_pin_of_every_lock_once():
    pins = wheelhouse.pins()
    assert len(pins) == len(set(pins))
    for lock in wheelhouse.LOCKS:
        for line in lock.read_text().splitlines():
            pin = line.split("#", 1)[0].strip()
            if pin:
                assert pin in pins, f"{lock.name}: {pin} would not be downloaded"
    assert pins and all("==" in pin and " " not in pin for pin in pins), pins
