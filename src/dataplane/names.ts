// Interface names as the kernel accepts them (IFNAMSIZ is 16 including the NUL) and safe as file
// names (wireguard-go uses /var/run/wireguard/<name>.sock). Checked before any command is built.
import { MoorError } from '../errors.ts';

export const INTERFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function assertInterfaceName(name: string): void {
  if (typeof name !== 'string' || !INTERFACE_NAME.test(name)) {
    throw new MoorError(
      'invalid-argument',
      `"${name}" is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)`,
    );
  }
}
