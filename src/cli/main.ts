#!/usr/bin/env node
import { createContext, signalController } from './context.js';
import { runCli } from './program.js';

const ac = signalController();
const ctx = createContext({ stdout: process.stdout, stderr: process.stderr }, ac.signal);
const code = await runCli(process.argv.slice(2), ctx);
process.exitCode = code;
