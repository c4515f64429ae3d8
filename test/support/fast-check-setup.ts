/** Jest setupFiles: fast-check's global default seed is the fixed (or FC_SEED) one (test/support/fast-check.ts). */
import * as fc from 'fast-check';

import { fuzzSettings } from './fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: fuzzSettings().seed });
