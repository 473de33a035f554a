// Run a MicroPython script under the 32-bit WebAssembly port (ESP32 object sizes),
// with a board-like folder copied into its filesystem and used as the working folder.
//
//   node tools/bench/mem32/mem32.mjs BOARD_DIR SCRIPT [HEAP_KB]
//
// BOARD_DIR (lib/*.mpy, fonts/, config.json, ...) is copied to "/" in the wasm filesystem.
// This port collects garbage only between two runPython calls (a gc.collect() inside one
// is deferred), so after running SCRIPT this calls its step() N_STEPS times, one call
// each, then its report() (see measure.py). Output goes to stdout; a Python exception
// exits with status 1.
import fs from "fs";
import path from "path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [boardDir, script, heapKb = "512"] = process.argv.slice(2);
if (!boardDir || !script) {
  console.error("usage: node mem32.mjs BOARD_DIR SCRIPT [HEAP_KB]");
  process.exit(2);
}

const mp = await loadMicroPython({
  heapsize: parseInt(heapKb, 10) * 1024,
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});

function copyInto(src, dst) {
  for (const name of fs.readdirSync(src)) {
    const from = path.join(src, name);
    const to = dst === "/" ? "/" + name : dst + "/" + name;
    if (fs.statSync(from).isDirectory()) {
      if (!mp.FS.analyzePath(to).exists) mp.FS.mkdir(to);
      copyInto(from, to);
    } else {
      mp.FS.writeFile(to, fs.readFileSync(from));
    }
  }
}

copyInto(boardDir, "/");
mp.FS.chdir("/");
try {
  mp.runPython(fs.readFileSync(script, "utf8"));
  const steps = mp.globals.get("N_STEPS");
  for (let i = 0; i < steps; i++) mp.runPython("step()");
  mp.runPython("report()");
} catch (e) {
  if (e.name !== "PythonError") throw e;
  console.error(e.message);
  process.exit(1);
}
