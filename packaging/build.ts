// `npm run package`: builds the single executable, stages ONE file tree, and makes
// dist/moor_VERSION_amd64.deb (dpkg-deb) and dist/moor-VERSION-1.x86_64.rpm (rpmbuild) from it.
// The tree's only per-format difference is where zsh looks for completions.
//
// Inputs from `npm run gen:docs`: dist/completion/moor.bash, dist/completion/_moor,
// dist/man/moor.1; and packaging/config.yaml (the default /etc/moor/config.yaml, a conffile).
// MOOR_PACKAGE_VERSION overrides the version (the upgrade test rebuilds with a newer one);
// MOOR_CONFIG_YAML another default config file; MOOR_PACKAGE_REUSE_BUILD=1 skips the build.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
};
const version = process.env.MOOR_PACKAGE_VERSION ?? pkg.version;
const dist = 'dist';
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) =>
  execFileSync(cmd, args, { stdio: 'inherit', ...opts });

function need(path: string, what: string): string {
  if (!existsSync(path)) {
    console.error(`error: ${path} is missing (${what})`);
    process.exit(1);
  }
  return path;
}

// MOOR_PACKAGE_REUSE_BUILD=1 packages the dist/moor already built (the upgrade test).
if (process.env.MOOR_PACKAGE_REUSE_BUILD !== '1') {
  run(process.execPath, ['scripts/build.ts']);
  run(process.execPath, ['scripts/build-sea.ts']);
}
if (pkg.scripts['gen:docs']) run('npm', ['run', '--silent', 'gen:docs']);
const docs = {
  bash: need(join(dist, 'completion', 'moor.bash'), 'bash completion: npm run gen:docs'),
  zsh: need(join(dist, 'completion', '_moor'), 'zsh completion: npm run gen:docs'),
  man: need(join(dist, 'man', 'moor.1'), 'man page: npm run gen:docs'),
  config: need(process.env.MOOR_CONFIG_YAML ?? join('packaging', 'config.yaml'), 'default config'),
};

// 1. The staged tree, shared by both formats.
const stage = join(dist, 'pkgroot');
rmSync(stage, { recursive: true, force: true });
const put = (src: string, dest: string, mode: number) => {
  const to = join(stage, dest);
  mkdirSync(join(to, '..'), { recursive: true });
  copyFileSync(src, to);
  chmodSync(to, mode);
};
const write = (dest: string, content: string | Buffer, mode = 0o644) => {
  const to = join(stage, dest);
  mkdirSync(join(to, '..'), { recursive: true });
  writeFileSync(to, content);
  chmodSync(to, mode);
};
put(join(dist, 'moor'), 'usr/bin/moor', 0o755);
put(join(dist, 'koffi.node'), 'usr/lib/moor/koffi.node', 0o644);
put('systemd/moor-agent.service', 'usr/lib/systemd/system/moor-agent.service', 0o644);
put('systemd/moor.tmpfiles', 'usr/lib/tmpfiles.d/moor.conf', 0o644);
put(docs.config, 'etc/moor/config.yaml', 0o644);
put(docs.bash, 'usr/share/bash-completion/completions/moor', 0o644);
put(docs.zsh, 'usr/share/zsh/ZSHDIR/_moor', 0o644);
write('usr/share/man/man1/moor.1.gz', gzipSync(readFileSync(docs.man), { level: 9 }));
put('README.md', 'usr/share/doc/moor/README.md', 0o644);
const notices = [join(dist, 'moor.cjs.LEGAL.txt'), join(dist, 'moor.mjs.LEGAL.txt')].find(existsSync);
const legal = notices ? readFileSync(notices, 'utf8') : '';
write(
  'usr/share/doc/moor/THIRD-PARTY-NOTICES',
  `Notices of the npm packages bundled into /usr/bin/moor, and koffi (usr/lib/moor/koffi.node).\n\n${legal}\n\nkoffi:\n${readFileSync('node_modules/koffi/LICENSE.txt', 'utf8')}`,
);
const installedKb = Math.ceil(
  [join(dist, 'moor'), join(dist, 'koffi.node')].reduce((s, p) => s + statSync(p).size, 0) / 1024,
);

// 2. The .deb.
const debRoot = join(dist, 'deb-root');
rmSync(debRoot, { recursive: true, force: true });
cpSync(stage, debRoot, { recursive: true });
renameSync(join(debRoot, 'usr/share/zsh/ZSHDIR'), join(debRoot, 'usr/share/zsh/vendor-completions'));
const date = new Date().toUTCString().replace('GMT', '+0000');
const debDoc = join(debRoot, 'usr/share/doc/moor');
copyFileSync('packaging/debian/copyright', join(debDoc, 'copyright'));
writeFileSync(
  join(debDoc, 'changelog.gz'),
  gzipSync(`moor (${version}) stable; urgency=medium\n\n  * Release ${version}.\n\n -- moor developers <moor@example.org>  ${date}\n`, {
    level: 9,
  }),
);
const lintianDir = join(debRoot, 'usr/share/lintian/overrides');
mkdirSync(lintianDir, { recursive: true });
copyFileSync('packaging/debian/lintian-overrides', join(lintianDir, 'moor'));
const control = join(debRoot, 'DEBIAN');
mkdirSync(control, { recursive: true });
writeFileSync(
  join(control, 'control'),
  readFileSync('packaging/debian/control.in', 'utf8')
    .replaceAll('@VERSION@', version)
    .replaceAll('@INSTALLED_SIZE@', String(installedKb)),
);
copyFileSync('packaging/debian/conffiles', join(control, 'conffiles'));
for (const script of ['postinst', 'prerm', 'postrm']) {
  copyFileSync(join('packaging/debian', script), join(control, script));
  chmodSync(join(control, script), 0o755);
}
const md5 = execFileSync('find', ['.', '-type', 'f', '!', '-path', './DEBIAN/*', '-printf', '%P\\0'], {
  cwd: debRoot,
});
const sums = execFileSync('xargs', ['-0', 'md5sum'], { cwd: debRoot, input: md5 });
writeFileSync(join(control, 'md5sums'), sums);
const deb = join(dist, `moor_${version}_amd64.deb`);
rmSync(deb, { force: true });
run('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', debRoot, deb]);

// 3. The .rpm, from the same tree (MOOR_PACKAGE_FORMATS=deb skips it).
if (process.env.MOOR_PACKAGE_FORMATS === 'deb') {
  console.log(`built ${deb}`);
  process.exit(0);
}
const rpmRoot = join(dist, 'rpm-root');
rmSync(rpmRoot, { recursive: true, force: true });
cpSync(stage, rpmRoot, { recursive: true });
renameSync(join(rpmRoot, 'usr/share/zsh/ZSHDIR'), join(rpmRoot, 'usr/share/zsh/site-functions'));
mkdirSync(join(rpmRoot, 'usr/share/licenses/moor'), { recursive: true });
writeFileSync(
  join(rpmRoot, 'usr/share/licenses/moor/LICENSE'),
  readFileSync('packaging/debian/copyright', 'utf8').replace(
    '/usr/share/common-licenses/Apache-2.0',
    'https://www.apache.org/licenses/LICENSE-2.0',
  ),
);
const top = join(process.cwd(), dist, 'rpmbuild');
rmSync(top, { recursive: true, force: true });
mkdirSync(join(top, 'SPECS'), { recursive: true });
const rpmDate = new Date().toUTCString().split(' ');
const specDate = `${rpmDate[0]?.replace(',', '')} ${rpmDate[2]} ${rpmDate[1]} ${rpmDate[3]}`;
const rpmVersion = version.replaceAll('-', '_');
writeFileSync(
  join(top, 'SPECS', 'moor.spec'),
  readFileSync('packaging/rpm/moor.spec.in', 'utf8')
    .replaceAll('@VERSION@', rpmVersion)
    .replaceAll('@DATE@', specDate),
);
run('rpmbuild', [
  '-bb',
  '--quiet',
  '--define',
  `_topdir ${top}`,
  '--define',
  `_moor_stage ${join(process.cwd(), rpmRoot)}`,
  '--define',
  '_unitdir /usr/lib/systemd/system',
  '--define',
  '_tmpfilesdir /usr/lib/tmpfiles.d',
  '--define',
  '_binary_payload w3.zstdio',
  join(top, 'SPECS', 'moor.spec'),
]);
const rpm = join(dist, `moor-${rpmVersion}-1.x86_64.rpm`);
renameSync(join(top, 'RPMS', 'x86_64', `moor-${rpmVersion}-1.x86_64.rpm`), rpm);
const mb = (p: string) => `${(statSync(p).size / 1e6).toFixed(1)} MB`;
console.log(`built ${deb} (${mb(deb)}) and ${rpm} (${mb(rpm)})`);
