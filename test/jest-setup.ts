import * as nestCommon from '@nestjs/common';
import * as nestCommonConstants from '@nestjs/common/constants.js';
import * as nestCore from '@nestjs/core';
import * as nestInjectorConstants from '@nestjs/core/injector/constants.js';

/*
 * nest-commander and its discovery helper are CommonJS and require() the ESM-only Nest 12 packages,
 * which Jest's CommonJS loader refuses before Node 24.9. Hand them the very module instances the ESM
 * code imports, so decorators and injection tokens are shared (plain Node 20.19+ does this itself).
 */
const meta = import.meta as ImportMeta & { jest?: { mock(name: string, factory: () => unknown): unknown } };
meta.jest?.mock('@nestjs/common', () => nestCommon);
meta.jest?.mock('@nestjs/core', () => nestCore);
meta.jest?.mock('@nestjs/common/constants', () => nestCommonConstants);
meta.jest?.mock('@nestjs/core/injector/constants', () => nestInjectorConstants);
