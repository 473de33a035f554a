"""The emulated stick as the tests run it: the simulator and the real firmware (run_host's own
command line, under the MicroPython unix port) as two processes, the firmware's output in
firmware.log and its figures in stats.json when it ends by itself (--seconds)."""
import json
import os
import signal
import subprocess

import run_host


class Stick:
    def __init__(self, tmp, flags, seconds=60, time_scale="0.1"):
        """`flags`: run_host's, besides the time scale, the run's length and its folders."""
        self.dir = tmp
        self.args = run_host.parser().parse_args(
            list(flags) + ["--time-scale", str(time_scale), "--seconds", str(seconds), "--run-dir",
                           str(tmp / "board"), "--frames", "", "--stats", str(tmp / "stats.json")])
        self.args.frames = None
        os.makedirs(self.args.run_dir, exist_ok=True)
        run_host.prepare(self.args)
        sim = ["--time-scale", str(time_scale), "--scenario", self.args.scenario]
        for f in self.args.fault:
            sim += ["--fault", f]
        self.sim = run_host.Sim(sim)
        self.log_path = tmp / "firmware.log"
        self.out = open(self.log_path, "w")
        self.proc = subprocess.Popen(run_host.firmware_command(self.args, self.sim.port),
                                     cwd=self.args.run_dir, stdout=self.out, stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stats(self, timeout=90):
        """Wait for the run's end (--seconds) and return its figures."""
        self.proc.wait(timeout)
        with open(self.args.stats) as f:
            return json.load(f)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def close(self):
        if self.proc.poll() is None:
            self.kill()
        self.sim.stop()
        self.out.close()
