import { inject } from 'vitest';

// Each test worker gets the functions' environment before any handler reads its config.
Object.assign(process.env, inject('functionEnv'));
