// Reading broker-info.subm from a path the operator gives: every problem with the file itself
// (missing, directory, unreadable, empty, huge) or its content becomes one error naming the path.
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import { type BrokerInfo, decodeBrokerInfo } from './brokerInfo.ts';

/** subctl writes a few kilobytes; the decoder refuses more than 1 MiB of text anyway. */
const MAX_BROKER_INFO_BYTES = 2 << 20;
const WHERE_FROM = 'pass the broker-info.subm written by `subctl deploy-broker`';

export function readBrokerInfoFile(path: string): BrokerInfo {
  const bytes = readInputFile(path, {
    what: 'broker-info file',
    maxBytes: MAX_BROKER_INFO_BYTES,
    hint: 're-create it with `subctl deploy-broker` or check that the whole file was copied',
    missingHint: WHERE_FROM,
  });
  try {
    return decodeBrokerInfo(bytes);
  } catch (err) {
    if (err instanceof MoorError)
      throw new MoorError(err.code, `${path}: ${err.message}`, { hint: err.hint ?? '', cause: err });
    throw err;
  }
}
