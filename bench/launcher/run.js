'use strict';
// Launcher overhead on a cache hit: the wall time of `node launcher/main.js`
// against a bare `node -e 0`, over N rounds that run every case in turn.
//
//   node bench/launcher/run.js [-n 20] [--budget-ms 15]
//
// Cases:
//   node -e 0           the floor: starting Node at all
//   spawn+noop          a two-line script that only spawns that noop binary:
//                       the least any launcher written in Node can cost
//   launcher+noop       main.js finding its cached source build (a throwaway
//                       tree holding launcher/testdata/fakeapp, a Go program
//                       that exits at once): the launcher's own cost
//   launcher+app-token  main.js in this repository's tree, finding its cached
//                       build of app-token, running `app-token action`
//                       against a loopback emulator: the whole main step
// The first run of each tree builds from source and is not counted. Exits 1
// when a case exceeds the floor by more than --budget-ms.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, spawn } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const FAKEAPP = path.join(REPO, 'launcher', 'testdata', 'fakeapp');

function flag(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}
const RUNS = flag('-n', 20);
const BUDGET_MS = flag('--budget-ms', 15);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timeOnce(args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  return ms;
}

// runnerEnv is what a runner gives the main step, minus the inputs.
function runnerEnv(dir, extra) {
  const state = path.join(dir, 'state');
  const output = path.join(dir, 'output');
  fs.writeFileSync(state, '');
  fs.writeFileSync(output, '');
  const env = { ...process.env, ...extra, GITHUB_STATE: state, GITHUB_OUTPUT: output, RUNNER_TOOL_CACHE: path.join(dir, 'toolcache') };
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'RUNNER_DEBUG']) delete env[k];
  return env;
}

// noopCase lays out a throwaway action tree around the fake app.
function noopCase(dir) {
  const root = path.join(dir, 'action');
  fs.mkdirSync(path.join(root, 'launcher'), { recursive: true });
  for (const f of ['launch.js', 'fetch.js', 'main.js']) {
    fs.copyFileSync(path.join(REPO, 'launcher', f), path.join(root, 'launcher', f));
  }
  fs.writeFileSync(path.join(root, 'launcher', 'checksums.txt'), '');
  for (const f of ['go.mod', 'main.go']) fs.copyFileSync(path.join(FAKEAPP, f), path.join(root, f));
  return { name: 'launcher+noop', args: [path.join(root, 'launcher', 'main.js')], env: runnerEnv(dir, {}) };
}

// appTokenCase runs the real main step against `app-token emulator`, with
// the test App it writes into --dir as the inputs. It returns { skip } with
// the reason when this tree's app-token cannot do that.
async function appTokenCase(dir, cleanup) {
  const bin = path.join(dir, `app-token${process.platform === 'win32' ? '.exe' : ''}`);
  const build = spawnSync('go', ['build', '-o', bin, '.'], { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) return { skip: 'go build failed' };
  const emuDir = path.join(dir, 'emulator');
  fs.mkdirSync(emuDir);
  const emu = spawn(bin, ['emulator', '--listen', '127.0.0.1:0', '--dir', emuDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => emu.kill());
  const url = await new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(null), 20000);
    emu.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    emu.on('exit', () => resolve(null));
  });
  if (!url) return { skip: '`app-token emulator` did not start' };
  // emulator.env: KEY=value lines naming the client ID and the key file.
  const vars = Object.fromEntries(fs.readFileSync(path.join(emuDir, 'emulator.env'), 'utf8')
    .split('\n').filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2)));
  return {
    name: 'launcher+app-token',
    args: [path.join(REPO, 'launcher', 'main.js')],
    env: runnerEnv(dir, {
      'INPUT_CLIENT-ID': vars.APP_TOKEN_CLIENT_ID,
      'INPUT_PRIVATE-KEY': fs.readFileSync(vars.APP_TOKEN_PRIVATE_KEY_FILE, 'utf8'),
      'INPUT_GITHUB-API-URL': url,
      INPUT_OWNER: 'octo-org',
      'INPUT_SKIP-TOKEN-REVOKE': 'true',
      GITHUB_REPOSITORY: 'octo-org/alpha',
    }),
  };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-launcher-'));
  const cleanup = [() => fs.rmSync(dir, { recursive: true, force: true })];
  try {
    const cases = [{ name: 'node -e 0', args: ['-e', '0'], env: process.env }];
    fs.mkdirSync(path.join(dir, 'noop'));
    const noop = noopCase(path.join(dir, 'noop'));
    timeOnce(noop.args, noop.env); // the source build; its state line names the binary
    const built = /^launcher-binary=(.*)$/m.exec(fs.readFileSync(noop.env.GITHUB_STATE, 'utf8'))[1];
    const spawnOnly = path.join(dir, 'spawn-only.js');
    fs.writeFileSync(spawnOnly, "const c = require('child_process').spawn(process.argv[2], ['action'], { stdio: 'inherit' });\n" +
      "c.on('exit', (code) => { process.exitCode = code; });\n");
    cases.push({ name: 'spawn+noop', args: [spawnOnly, built], env: noop.env });
    cases.push(noop);
    fs.mkdirSync(path.join(dir, 'real'));
    const real = await appTokenCase(path.join(dir, 'real'), cleanup);
    if (real.skip) console.log(`launcher+app-token: not measured (${real.skip})`);
    else cases.push(real);

    for (const c of cases) {
      c.ms = [];
      for (let i = 0; i < 3; i++) timeOnce(c.args, c.env); // build, then warm the page cache
    }
    for (let i = 0; i < RUNS; i++) for (const c of cases) c.ms.push(timeOnce(c.args, c.env));

    // "over floor" is the median of the per-round differences: each round
    // runs every case back to back, so a machine that slows down for a while
    // moves both sides of a difference.
    let over = false;
    console.log(`${RUNS} runs each, ${process.platform}/${process.arch}, node ${process.version}`);
    console.log('case                 median     min     max   over floor');
    for (const c of cases) {
      const m = median(c.ms);
      const extra = median(c.ms.map((ms, i) => ms - cases[0].ms[i]));
      if (c !== cases[0] && extra > BUDGET_MS) over = true;
      console.log(`${c.name.padEnd(18)} ${m.toFixed(1).padStart(8)} ${Math.min(...c.ms).toFixed(1).padStart(7)} ` +
        `${Math.max(...c.ms).toFixed(1).padStart(7)} ${c === cases[0] ? '' : `${extra >= 0 ? '+' : ''}${extra.toFixed(1)} ms`.padStart(12)}`);
    }
    console.log(`budget: +${BUDGET_MS} ms over the floor: ${over ? 'EXCEEDED' : 'ok'}`);
    if (over) process.exitCode = 1;
  } finally {
    for (const f of cleanup.reverse()) f();
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
