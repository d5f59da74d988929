import { dirname, join } from 'node:path';
import type * as VonageJwt from '@vonage/jwt';

/**
 * `@vonage/jwt`'s own verifySignature. The package's entry point also loads `uuid` 14, an ES module that
 * jest's CommonJS runtime cannot load (node itself can); its verifySignature module needs only
 * jsonwebtoken, so that module is loaded alone, by its path beside the entry point.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a module file by path, past the package's exports map (see above)
const verifySignatureModule = require(join(dirname(require.resolve('@vonage/jwt')), 'verifySignature.js')) as Pick<typeof VonageJwt, 'verifySignature'>;

export const verifySignature = verifySignatureModule.verifySignature;
