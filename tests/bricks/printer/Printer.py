"""Writes to stdout in every way a brick can, and reads standard input
(it must get nothing: the lines belong to the runner), then returns the input."""
import os
import subprocess
import sys

from titanfe.brick import BrickBase


class Brick(BrickBase):
    def setup(self):
        print("print from setup")

    def process(self, input, port):
        print("print from process", input.value)
        sys.stdout.write("sys.stdout.write\n")
        sys.stdout.flush()
        os.write(1, b"os.write to fd 1\n")
        subprocess.run(["echo", "echo from a subprocess"], check=True)
        eaten = subprocess.run(["cat"], check=True, capture_output=True).stdout
        print("a subprocess read", len(eaten), "bytes of stdin")
        print("the brick read", repr(sys.stdin.read()), "from stdin")
        # signals must not be blocked in processes a brick starts
        with open("/proc/self/status", encoding="ascii") as status:
            print([line for line in status if line.startswith("SigBlk")][0].strip())
        subprocess.run(["grep", "SigBlk", "/proc/self/status"], check=True)
        return input
