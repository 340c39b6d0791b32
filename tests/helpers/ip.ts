import { randomInt } from 'node:crypto';

const hex = () => randomInt(0x10000).toString(16);

/** A fresh documentation-range IPv6 address (RFC 3849) per call: no two tests share a budget. */
export const freshIp = (): string => `2001:db8:${hex()}:${hex()}::${hex()}`;
