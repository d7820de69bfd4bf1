import { ApiProperty } from '@nestjs/swagger';
import { AuditEventExportDto } from '../../audit/audit-event-export.dto.js';

/** GET /admin/audit-events: one page of events, as export-audit-log writes them. */
export class AuditEventListResponseDto {
  @ApiProperty({ type: [AuditEventExportDto], description: 'Newest first, as export-audit-log writes them' })
  events: AuditEventExportDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= (with the same filters and limit) for the next, older page; null on the last page',
  })
  next_cursor: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The next page as a path with its query; null on the last page' })
  next: string | null;
}
