import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createBrotliDecompress } from 'node:zlib';
import type { Logger } from '../../src/logger';

const run = promisify(execFile);

/** The npm package's root: its `exports` hide package.json and bin/ from require.resolve. */
const PACKAGE_ROOT = resolve(dirname(require.resolve('@sparticuz/chromium')), '../..');

/** A Chromium to launch: its binary, and what its environment needs besides the caller's. */
export interface ChromiumBinary {
  executablePath: string;
  env: Record<string, string>;
}

/**
 * The Chromium inside the @sparticuz/chromium npm package (a headless-shell build for Linux x64, as brotli
 * archives under bin/: the binary, its fonts, SwiftShader, and the NSS and expat libraries it links), unpacked
 * once into the cache outside the repo, in a folder named by the package's version, and reused by every test
 * file and run after that. undefined on other platforms, where the build does not run.
 *
 * The package's own executablePath() is made for AWS Lambda, so it is not used: it unpacks into os.tmpdir()
 * under fixed names whatever the version (/tmp/chromium), returns a file that merely exists (a second test file
 * starting during the first one's unpack gets a half-written binary), writes a fonts.conf that only finds fonts
 * in /tmp/fonts, and unpacks the libraries only on Amazon Linux (without them, the binary needs Debian's
 * libnss3, libnspr4 and libexpat1). Here the archives are unpacked into a staging folder renamed into place when
 * complete; a test file racing another one keeps whichever rename came first.
 */
export async function packagedChromium(cacheDir: string, log: Logger): Promise<ChromiumBinary | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const { version } = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  const home = join(cacheDir, `sparticuz-chromium-${version}`);
  if (!existsSync(join(home, 'chromium'))) {
    const started = performance.now();
    await mkdir(cacheDir, { recursive: true });
    const staging = await mkdtemp(join(cacheDir, 'unpack-'));
    try {
      await unpack(join(PACKAGE_ROOT, 'bin'), staging, home);
      await rename(staging, home);
      log.info({ version, home, ms: Math.round(performance.now() - started) }, 'unpacked @sparticuz/chromium (first time only)');
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(join(home, 'chromium'))) throw err; // else another test file unpacked it first
    }
  }
  return {
    executablePath: join(home, 'chromium'),
    env: {
      FONTCONFIG_FILE: join(home, 'fonts.conf'),
      LD_LIBRARY_PATH: [join(home, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    },
  };
}

/** Unpacks into `dir` what will live at `home` (fonts.conf names its final paths). */
async function unpack(bin: string, dir: string, home: string): Promise<void> {
  await Promise.all([
    pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(join(dir, 'chromium'), { mode: 0o755 })),
    untar(join(bin, 'swiftshader.tar.br'), dir), // libEGL, libGLESv2, libvk_swiftshader: beside the binary, where it looks
    untar(join(bin, 'fonts.tar.br'), dir), // fonts/Open_Sans/*.ttf (and a fonts.conf for /tmp/fonts, replaced below)
    untar(join(bin, 'al2023.tar.br'), dir), // lib/: libnss3, libnspr4, libexpat and their companions
  ]);
  // Only the packaged fonts, whatever the machine has installed: text renders alike everywhere.
  await writeFile(
    join(dir, 'fonts.conf'),
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>${join(home, 'fonts')}</dir>
  <cachedir>${join(home, 'fontconfig-cache')}</cachedir>
</fontconfig>
`,
  );
}

/**
 * A brotli-compressed tarball extracted into `dir` by the system's tar, from a file: tar stops reading at the
 * archive's end, which fails a pipe still writing its padding. Owners are not kept (the archives carry a
 * builder's uid).
 */
async function untar(archive: string, dir: string): Promise<void> {
  const tarball = join(dir, basename(archive, '.br'));
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(tarball));
  await run('tar', ['-x', '--no-same-owner', '-f', tarball, '-C', dir]);
  await rm(tarball);
}
