import { Inject, Injectable } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { prepareSchema } from '../database/schema.js';

/**
 * The CLI starts without touching the schema (init-db is how it is made). Every other command asks
 * here first, so a database without it stops with "run init-db first" instead of a missing table.
 */
@Injectable()
export class SchemaCheck {
  constructor(@Inject(getDataSourceToken()) private readonly dataSource: DataSource) {}

  async requireReady(): Promise<void> {
    await prepareSchema(this.dataSource, 'verify');
  }
}
