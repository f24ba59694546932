// A throwaway CA and a broker certificate for 127.0.0.1/localhost, made with the
// openssl CLI in a temp folder (nothing leaves the machine).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA named `name` in `dir`, and a broker certificate it signed. */
export function makeCerts(dir: string, name = 'bellhop-test-ca'): TestCerts {
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`], dir);
  openssl(['req', ...EC, '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', '2', '-extfile', 'san.cnf'],
    dir,
  );
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'broker.crt'), keyFile: join(dir, 'broker.key') };
}
