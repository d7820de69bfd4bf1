#!/usr/bin/env node
/**
 * The reference point of `npm run bench`: a bare NestJS + Express app with one route, GET /constant,
 * answering a constant JSON body. Same framework, same Node, same machine as the service, nothing
 * else: what the service's own work costs is the distance to this.
 *
 *   node bench/bare-app.mjs    (PORT, default 0; prints "listening <port>" on stdout once it is)
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const BODY = { status: 'ok', service: 'bare', version: 1 };

class ConstantController {
  constant() {
    return BODY;
  }
}
Get('constant')(ConstantController.prototype, 'constant', Object.getOwnPropertyDescriptor(ConstantController.prototype, 'constant'));
Controller()(ConstantController);

class BareModule {}
Module({ controllers: [ConstantController] })(BareModule);

const app = await NestFactory.create(BareModule, { logger: false });
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`listening ${app.getHttpServer().address().port}\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close().then(() => process.exit(0)));
