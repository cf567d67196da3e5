'use strict';
// Shared code of the action's launchers (main.js and post.js): find or make the
// app-token binary for this runner, then run one of its subcommands with the
// runner's environment and stdio, passing its exit code (or signal) through.
//
// Where the binary comes from, first match wins:
//  1. dist/<asset> in the action's own tree, if its SHA-256 is listed in
//     launcher/checksums.txt (a mismatch is refused, never run);
//  2. the tool cache, where step 3 left a verified copy;
//  3. the GitHub release named in launcher/checksums.txt, downloaded (through
//     HTTPS_PROXY if set) and run only if its SHA-256 matches the list;
//  4. a build from source (`go build`), cached under a fingerprint of the source.
// The list is part of the action's tree at the ref the workflow uses, and it
// names the release the binaries belong to: @v1, @v1.2.3 and @<commit SHA> of a
// release commit all find v1.2.3's binaries, and a pin on any of them also pins
// the binary. Other refs have an empty list. Only node builtins are used.
//
// A cached binary is run only if no other user could have replaced it
// (trustedPath): the file, and every folder above it up to the root, must be
// this user's (or root's, above the cache) and not writable by group or
// others, sticky folders such as /tmp aside. Hashing the binary on each use
// would say the same for release binaries but costs about 70 ms for 21 MB
// (the whole launcher costs about 13 ms), and a source build has no listed
// hash to check. A tool cache that fails the check is not used: the launcher
// caches in the user's own cache folder instead. On Windows, where POSIX
// owners and modes do not apply, a cached release binary is hashed on use.

const fs = require('fs');
const path = require('path');
// child_process and crypto are required where they are used: a cache hit,
// the common case, needs neither where Node has process.execve, and loading
// them costs about 7 ms and 2 ms.

const OS = { linux: 'linux', darwin: 'darwin', win32: 'windows' };
const ARCH = { x64: 'amd64', arm64: 'arm64' };
const STATE_BINARY = 'launcher-binary';
const MAX_ASSET_BYTES = 256 << 20;

// LaunchError is an error whose message is meant for the workflow's user.
class LaunchError extends Error {}

// assetName returns the release asset built for a Node platform and arch.
function assetName(platform, arch) {
  const os = OS[platform];
  const cpu = ARCH[arch];
  if (!os || !cpu) {
    throw new LaunchError(`app-token has no build for ${platform}/${arch}: ` +
      'run this step on Linux, macOS or Windows with an x64 or arm64 CPU');
  }
  return `app-token-${os}-${cpu}${platform === 'win32' ? '.exe' : ''}`;
}

// parseChecksums reads launcher/checksums.txt: "# comment" lines, one
// "version <tag>" line and "<sha256>  <asset>" lines (sha256sum's format).
function parseChecksums(text, file = 'launcher/checksums.txt') {
  const sums = new Map();
  let version = '';
  text.split(/\r?\n/).forEach((line, i) => {
    line = line.trim();
    if (line === '' || line.startsWith('#')) return;
    let m = /^version (v\d+\.\d+\.\d+[0-9A-Za-z.+-]*)$/.exec(line);
    if (m) {
      version = m[1];
      return;
    }
    m = /^([0-9a-f]{64}) [ *]([\w.-]+)$/.exec(line);
    if (!m) {
      throw new LaunchError(`${file} line ${i + 1} is neither "version vX.Y.Z" nor "<sha256>  <asset>": ` +
        'restore the file from the release tag');
    }
    sums.set(m[2], m[1]);
  });
  return { version, sums };
}

// serverURLs returns where the action's releases may live: the web host of the
// github-api-url input (github.com for api.github.com, https://HOST for a GHES
// https://HOST/api/v3), then the runner's own server.
function serverURLs(env) {
  const out = [];
  const api = env['INPUT_GITHUB-API-URL'] || env.GITHUB_API_URL || '';
  if (api) {
    let u;
    try {
      u = new URL(api);
    } catch {
      throw new LaunchError(`input github-api-url ${JSON.stringify(api)} is not a URL: ` +
        'use https://api.github.com or https://HOST/api/v3');
    }
    let host = u.host;
    if (u.hostname === 'api.github.com' || /^api\.[^.]+\.ghe\.com$/.test(u.hostname)) {
      host = host.slice(4);
    }
    out.push(`${u.protocol}//${host}${u.pathname.replace(/\/+$/, '').replace(/\/api\/v3$/, '')}`);
  }
  if (env.GITHUB_SERVER_URL) out.push(env.GITHUB_SERVER_URL.replace(/\/+$/, ''));
  return [...new Set(out)];
}

// cacheRoot is where verified and built binaries are kept between runs.
function cacheRoot(env, platform) {
  if (env.RUNNER_TOOL_CACHE) return env.RUNNER_TOOL_CACHE;
  const home = env.HOME || env.USERPROFILE || require('os').homedir();
  if (platform === 'win32' && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, 'app-token-action');
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'app-token-action');
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'app-token-action');
}

function sha256File(file) {
  const h = require('crypto').createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

// dirMode is the mode of every folder the launcher makes: writable only by
// this user, whatever the umask allows.
const DIR_MODE = 0o755;

function mkdirs(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

// unsafeEntry says why the file or folder st describes could be changed
// by a user other than this one, or returns ''. owners are the uids allowed
// to own it; above the cache, a sticky folder (as /tmp) may be writable by
// all, as no one can rename or delete what others own there.
function unsafeEntry(p, st, owners, above) {
  if (!owners.includes(st.uid)) return `${p} is owned by uid ${st.uid}, not by this user (uid ${owners[0]})`;
  const sticky = above && st.isDirectory() && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) {
    return `${p} is writable by its group or others (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return '';
}

// trustedPath says why file, in the launcher's cache folder top, could
// have been written by another user, or returns '' when it could not: it
// is a regular file (not a link, FIFO or device), it and the folders up to
// top are this user's, and top and the folders above it, up to the root,
// are this user's or root's; none is writable by group or others unless
// sticky. A symbolic link on the way is checked where it points, as well.
// Only called where POSIX owners apply (not on Windows).
function trustedPath(file, top) {
  const uid = process.getuid();
  let st;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    return `${file}: ${err.code || err.message}`;
  }
  if (!st.isFile()) return `${file} is not a regular file`;
  const why = unsafeEntry(file, st, [uid], false);
  if (why) return why;
  return trustedDirs(path.dirname(file), top, uid);
}

function trustedDirs(dir, top, uid) {
  let below = path.relative(top, dir).split(path.sep)[0] !== '..';
  for (let d = dir; ; d = path.dirname(d)) {
    let st;
    try {
      st = fs.lstatSync(d);
    } catch (err) {
      return `${d}: ${err.code || err.message}`;
    }
    if (st.isSymbolicLink()) {
      // Its parent, checked next, keeps the link itself in place.
      let real;
      try {
        real = fs.realpathSync.native(d);
      } catch (err) {
        return `${d}: ${err.code || err.message}`;
      }
      const why = trustedDirs(real, below ? real : top, uid);
      if (why) return why;
    } else {
      const why = st.isDirectory() ? unsafeEntry(d, st, below ? [uid] : [uid, 0], !below) : `${d} is not a folder`;
      if (why) return why;
    }
    if (d === top) below = false;
    const up = path.dirname(d);
    if (up === d) return '';
  }
}

// cacheFolder returns the launcher's folder in the cache, made if missing:
// under the tool cache, or, when another user could write there, under
// this user's own cache folder (with a warning).
function cacheFolder(env, platform, warn) {
  const top = path.join(cacheRoot(env, platform), 'app-token');
  if (platform === 'win32' || typeof process.getuid !== 'function') {
    mkdirs(top);
    return top;
  }
  const uid = process.getuid();
  const check = (dir) => {
    if (!fs.existsSync(dir)) {
      // Check where it goes before making it there.
      let up = path.dirname(dir);
      while (!fs.existsSync(up) && path.dirname(up) !== up) up = path.dirname(up);
      const why = trustedDirs(up, dir, uid);
      if (why) return why;
      try {
        mkdirs(dir);
      } catch (err) {
        return `${dir}: ${err.code || err.message}`;
      }
    }
    return trustedDirs(dir, dir, uid);
  };
  const why = check(top);
  if (!why) return top;
  if (env.RUNNER_TOOL_CACHE) {
    const own = path.join(cacheRoot({ ...env, RUNNER_TOOL_CACHE: '' }, platform), 'app-token');
    if (!check(own)) {
      warn(`app-token: not caching in the tool cache, as another user could replace what is there (${why}); using ${own}`);
      return own;
    }
  }
  throw new LaunchError(`no safe place to keep app-token's binary: ${why}: ` +
    'make the folder and its parents writable only by the runner\'s user (chmod go-w), or set RUNNER_TOOL_CACHE to such a folder');
}

// cachedBinary returns bin if a usable copy is there. One that another user
// could have replaced is removed with a warning (and made again by the
// caller); on Windows a release binary is checked against its SHA-256.
function cachedBinary(bin, top, platform, warn, want) {
  if (platform === 'win32' || typeof process.getuid !== 'function') {
    if (!isFile(bin)) return '';
    if (!want || sha256File(bin) === want) return bin;
    warn(`app-token: the cached ${bin} does not match launcher/checksums.txt; replacing it`);
    fs.rmSync(bin, { force: true });
    return '';
  }
  let exists = true;
  try {
    fs.lstatSync(bin);
  } catch {
    exists = false;
  }
  if (!exists) return '';
  const why = trustedPath(bin, top);
  if (!why) return bin;
  warn(`app-token: not running the cached binary: ${why}; making it again`);
  const dir = path.dirname(bin);
  fs.rmSync(dir, { recursive: true, force: true });
  return '';
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// tempName is a name next to file for this process to write, then rename.
function tempName(file, ext) {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp${ext}`;
}

// install moves a finished temporary file to its final name. Renames are
// atomic, so a cached binary is either absent or complete and verified.
function install(tmp, dest) {
  fs.chmodSync(tmp, 0o755);
  try {
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (!isFile(dest)) throw err; // else a parallel job won the race
  }
}

// sourceFiles calls visit for each file that `go build .` reads: go.mod,
// go.sum and the root's non-test .go files, and every non-test, non-doc file
// in the other package folders (for //go:embed), skipping folders Go ignores
// (testdata, ".x", "_x") and the action's own non-Go folders. The order is
// stable.
function sourceFiles(root, visit) {
  const skip = new Set(['testdata', 'node_modules', 'dist', 'launcher', 'bench', 'examples', 'scripts']);
  const walk = (dir, rel) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const name = e.name;
      const r = rel ? `${rel}/${name}` : name;
      if (e.isDirectory()) {
        if (!skip.has(name) && !/^[._]/.test(name)) walk(path.join(dir, name), r);
        continue;
      }
      if (!e.isFile() || name.endsWith('_test.go') || name.endsWith('.md')) continue;
      if (!rel && !(name.endsWith('.go') || name === 'go.mod' || name === 'go.sum')) continue;
      visit(r, path.join(dir, name));
    }
  };
  walk(root, '');
}

// sourceFingerprint is the SHA-256 of the source files' names and contents:
// the key of a source build, the same for every copy of the same source.
function sourceFingerprint(root) {
  const h = require('crypto').createHash('sha256');
  sourceFiles(root, (rel, file) => {
    const data = fs.readFileSync(file);
    h.update(`${rel}\0${data.length}\0`).update(data);
  });
  return h.digest('hex');
}

// statListing lists the source files with what git's index also trusts to
// notice a change without reading: size, mtime, ctime (which no tool can set
// back) and inode. It is much cheaper than sourceFingerprint.
function statListing(root) {
  let out = '';
  sourceFiles(root, (rel, file) => {
    const st = fs.statSync(file);
    out += `${rel}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\n`;
  });
  return out;
}

// fnv1a is a 32-bit FNV-1a hash of s, only to name memo files: a memo is used
// only when its whole listing matches, so a collision costs a rehash, no more.
function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

// sourceKey returns the fingerprint of the source in root. A memo, named
// after the stat listing and holding it, spares the hashing while the files
// are untouched; copies of the tree (act, a fresh checkout) are hashed.
function sourceKey(root, cache) {
  const listing = `${root}\n${statListing(root)}`;
  const dir = path.join(cache, 'source', 'memo');
  const memo = path.join(dir, `${fnv1a(listing)}.txt`);
  try {
    if (typeof process.getuid === 'function' && trustedPath(memo, cache)) throw new Error('untrusted memo');
    const text = fs.readFileSync(memo, 'utf8');
    const cut = text.lastIndexOf('\n=');
    if (text.slice(0, cut + 1) === listing) return text.slice(cut + 2);
  } catch { /* no memo yet */ }
  const key = sourceFingerprint(root).slice(0, 32);
  try {
    mkdirs(dir);
    const old = fs.readdirSync(dir);
    if (old.length > 200) {
      // Copies of the tree (one per act run) leave memos that never match
      // again: drop the oldest half.
      old.map((f) => [f, fs.statSync(path.join(dir, f)).mtimeMs]).sort((a, b) => a[1] - b[1])
        .slice(0, old.length / 2).forEach(([f]) => fs.rmSync(path.join(dir, f), { force: true }));
    }
    const tmp = `${memo}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${listing}=${key}`, { mode: 0o644 });
    fs.renameSync(tmp, memo);
  } catch { /* a memo is only a shortcut */ }
  return key;
}

// escapeData escapes a workflow command's message.
function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

// resolve returns the path of a verified or freshly built app-token binary.
async function resolve(o) {
  const { root, env, platform, arch, log, warn = log } = o;
  const asset = assetName(platform, arch);
  const exe = platform === 'win32' ? 'app-token.exe' : 'app-token';
  const listFile = path.join(root, 'launcher', 'checksums.txt');
  const list = isFile(listFile) ? parseChecksums(fs.readFileSync(listFile, 'utf8')) : { version: '', sums: new Map() };
  const want = list.sums.get(asset);
  const cache = o.cache || cacheFolder(env, platform, warn);
  let why = `launcher/checksums.txt lists no ${asset} for this ref`;

  if (want && list.version) {
    const dist = path.join(root, 'dist', asset);
    if (isFile(dist)) {
      const got = sha256File(dist);
      if (got !== want) {
        throw new LaunchError(`dist/${asset} has SHA-256 ${got} but launcher/checksums.txt lists ${want}: ` +
          'refusing to run it; delete dist/ or restore it from the release');
      }
      return dist;
    }
    const dir = path.join(cache, list.version, `${asset.replace(/\.exe$/, '')}-${want.slice(0, 16)}`);
    const bin = path.join(dir, exe);
    if (cachedBinary(bin, cache, platform, warn, want)) return bin;
    // A local action (uses: ./) has no GITHUB_ACTION_REPOSITORY: it is the
    // workflow's own repository. Any other source is safe to try too, as
    // nothing runs unless its checksum matches.
    const repo = env.GITHUB_ACTION_REPOSITORY || env.GITHUB_REPOSITORY;
    if (!repo) {
      why = 'neither GITHUB_ACTION_REPOSITORY nor GITHUB_REPOSITORY is set, so the release cannot be found';
    } else {
      const urls = serverURLs(env).map((s) =>
        `${s}/${repo}/releases/download/${encodeURIComponent(list.version)}/${asset}`);
      mkdirs(dir);
      const tmp = tempName(bin, '');
      const failures = [];
      for (const url of urls) {
        log(`app-token: downloading ${url}`);
        let got;
        try {
          got = await require('./fetch').download(url, tmp, { env, maxBytes: MAX_ASSET_BYTES });
        } catch (err) {
          fs.rmSync(tmp, { force: true });
          failures.push(err.message);
          continue;
        }
        if (got !== want) {
          fs.rmSync(tmp, { force: true });
          throw new LaunchError(`${url} has SHA-256 ${got} but launcher/checksums.txt lists ${want} for ${asset}: ` +
            'the release asset was replaced or corrupted; refusing to run it');
        }
        install(tmp, bin);
        return bin;
      }
      why = `no release binary could be downloaded (${failures.join('; ') || 'no server URL'})`;
    }
  }

  const key = sourceKey(root, cache);
  const dir = path.join(cache, 'source', `${key}-${asset.replace(/^app-token-|\.exe$/g, '')}`);
  const bin = path.join(dir, exe);
  if (cachedBinary(bin, cache, platform, warn, '')) return bin;
  if (!isFile(path.join(root, 'go.mod'))) {
    throw new LaunchError(`${why}, and this copy of the action has no Go source to build from: use a released version`);
  }
  if (want) warn(`app-token: building from source: ${why}`);
  log(`app-token: building from source (${why})`);
  mkdirs(dir);
  const tmp = tempName(bin, platform === 'win32' ? '.exe' : '');
  await goBuild(root, tmp, key, env, why);
  install(tmp, bin);
  return bin;
}

function goBuild(root, out, key, env, why) {
  // -buildvcs=false: the action's copy may carry a .git owned by someone else,
  // and the version stamp below already names the source. -tags
  // noschemacheck, as releases are built: the emulator's schema check (and
  // the validator whose initialiser costs about 4 ms of every start) is for
  // tests, not for the action's step.
  const args = ['build', '-trimpath', '-buildvcs=false', '-tags=noschemacheck',
    `-ldflags=-X main.version=source-${key.slice(0, 12)}`, '-o', out, '.'];
  return new Promise((resolvePromise, reject) => {
    const child = require('child_process').spawn('go', args, {
      cwd: root,
      env: { ...env, CGO_ENABLED: '0', GOWORK: 'off' },
      stdio: ['ignore', 2, 2], // go's chatter must not reach stdout, where workflow commands go
    });
    child.on('error', (err) => {
      reject(err.code === 'ENOENT'
        ? new LaunchError(`${why}, so app-token must be built from source, but "go" is not on PATH: ` +
          'add actions/setup-go before this step, or use a released version of the action')
        : err);
    });
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else {
        fs.rmSync(out, { force: true });
        reject(new LaunchError(`go build of app-token failed (${signal || `exit ${code}`}); see the output above`));
      }
    });
  });
}

// canExecve reports whether this Node can replace itself with the binary:
// process.execve exists from Node 22.15 and 23.11 (the runner's node24 has
// it), on Unix only. Nothing written may still be pending, as execve would
// drop it (pipes are asynchronous on macOS). APP_TOKEN_LAUNCHER_SPAWN=1
// forces the spawn path, for its tests.
function canExecve(env) {
  return typeof process.execve === 'function' && process.platform !== 'win32' &&
    env.APP_TOKEN_LAUNCHER_SPAWN !== '1' &&
    process.stdout.writableLength === 0 && process.stderr.writableLength === 0;
}

// runBinary runs bin with one subcommand and mirrors how it ended.
function runBinary(bin, subcommand, env) {
  if (canExecve(env)) {
    try {
      // Become app-token instead of starting it and waiting: no second
      // process to start (the largest part of the launcher's cost), and the
      // signals and exit code are app-token's own. Does not return.
      process.execve(bin, [bin, subcommand], env);
    } catch {
      // Fall through: spawn reports the failure as a workflow error.
    }
  }
  const child = require('child_process').spawn(bin, [subcommand], { stdio: 'inherit', env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (sig) => child.kill(sig);
  for (const s of signals) process.on(s, forward);
  child.on('error', (err) => {
    process.stdout.write(`::error::${escapeData(`app-token: cannot run ${bin}: ${err.message}`)}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    for (const s of signals) process.removeListener(s, forward);
    if (signal) {
      process.exitCode = 128 + (require('os').constants.signals[signal] || 0);
      process.kill(process.pid, signal); // die the same way, as a shell would report it
      return;
    }
    process.exitCode = code;
  });
}

// main is the entry point of main.js ("action") and post.js ("action-post").
async function main(subcommand) {
  const env = process.env;
  const root = path.resolve(__dirname, '..');
  const debug = env.RUNNER_DEBUG === '1' ? (m) => process.stdout.write(`::debug::${escapeData(m)}\n`) : () => {};
  const log = (m) => process.stderr.write(`${m}\n`);
  const warn = (m) => process.stdout.write(`::warning::${escapeData(m)}\n`);
  try {
    let bin;
    const cache = cacheFolder(env, process.platform, warn);
    if (subcommand === 'action-post') {
      bin = env[`STATE_${STATE_BINARY}`];
      if (!bin) {
        debug('app-token: the main step did not start app-token; nothing to clean up');
        return;
      }
      // The main step's binary is reused only from the cache, and only if
      // it still passes the cache's checks; else (dist/, or gone) it is
      // found again, and a dist/ binary hashed again.
      const rel = path.relative(cache, bin);
      const inCache = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
      if (!inCache || !cachedBinary(bin, cache, process.platform, warn, '')) bin = undefined;
    }
    if (!bin) {
      bin = await resolve({ root, env, cache, platform: process.platform, arch: process.arch, log, warn });
    }
    debug(`app-token: running ${bin} ${subcommand}`);
    if (subcommand === 'action' && env.GITHUB_STATE && !/[\r\n]/.test(bin)) {
      fs.appendFileSync(env.GITHUB_STATE, `${STATE_BINARY}=${bin}\n`);
    }
    runBinary(bin, subcommand, env);
  } catch (err) {
    const msg = err instanceof LaunchError ? err.message : `app-token launcher: ${err.message}`;
    process.stdout.write(`::error::${escapeData(msg)}\n`);
    process.exitCode = 1;
  }
}

module.exports = { main, resolve, assetName, parseChecksums, serverURLs, sourceFingerprint, sourceKey, cacheRoot, trustedPath, LaunchError };
