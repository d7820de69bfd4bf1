import { Controller, Headers, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/public.decorator.js';
import { ApiErrorResponseDto } from '../common/api-error-response.dto.js';
import { WebhookDeliveryResponseDto } from './dto/webhook-delivery-response.dto.js';
import { GITHUB_WEBHOOK_ROUTE, WEBHOOKS_ROUTE } from './webhook-route.js';
import { type DeliveryOrigin, WebhooksService } from './webhooks.service.js';

/**
 * GitHub's webhook deliveries. Open to callers without an OIDC token (GitHub has none): the
 * signature over the body is what authenticates a delivery. Registered only when
 * GITHUB_WEBHOOK_SECRET is set; without it the route does not exist.
 */
@ApiTags('webhooks')
@Public()
@Controller(WEBHOOKS_ROUTE)
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post(GITHUB_WEBHOOK_ROUTE)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'receiveGithubWebhook',
    summary: "GitHub App webhook deliveries (workflow_job): runner status in real time and bind_to_run enforcement",
    description:
      'For GitHub, not for people: authenticated by X-Hub-Signature-256 (HMAC-SHA256 of the raw body with ' +
      'GITHUB_WEBHOOK_SECRET), not by a bearer token. A delivery id already acted on in the last day is ' +
      'answered 200 duplicate and changes nothing. Bodies over 1 MiB are refused. Exists only when ' +
      'GITHUB_WEBHOOK_SECRET is set.',
  })
  @ApiHeader({ name: 'X-Hub-Signature-256', required: true, description: 'sha256=<hex HMAC-SHA256 of the body>' })
  @ApiHeader({ name: 'X-GitHub-Event', required: true, description: 'workflow_job (others are answered ignored), ping' })
  @ApiHeader({ name: 'X-GitHub-Delivery', required: true, description: 'The delivery id: the same on a redelivery' })
  @ApiBody({ description: "GitHub's event payload, JSON", schema: { type: 'object' } })
  @ApiOkResponse({ type: WebhookDeliveryResponseDto })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED: a signed delivery without X-GitHub-Delivery or X-GitHub-Event, or a payload not shaped as GitHub sends it',
    type: ApiErrorResponseDto,
  })
  @ApiUnauthorizedResponse({ description: 'WEBHOOK_SIGNATURE_INVALID: the signature is missing or does not match the body', type: ApiErrorResponseDto })
  @ApiPayloadTooLargeResponse({ description: 'PAYLOAD_TOO_LARGE: the body is over 1 MiB', type: ApiErrorResponseDto })
  @ApiUnsupportedMediaTypeResponse({
    description: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json (set the webhook's content type to application/json)",
    type: ApiErrorResponseDto,
  })
  receiveGithubDelivery(
    @Req() request: Request,
    @Headers('x-hub-signature-256') signature?: string,
    @Headers('x-github-event') event?: string,
    @Headers('x-github-delivery') deliveryId?: string,
  ): Promise<WebhookDeliveryResponseDto> {
    // The raw body, exactly as it arrived (webhookBodyParser); nothing else has parsed it.
    const body: unknown = request.body;
    return this.webhooks.receiveDelivery(originOf(request), {
      body: Buffer.isBuffer(body) ? body : Buffer.alloc(0),
      signature,
      event,
      deliveryId,
    });
  }
}

/** pino-http gives every request its id; the source IP is the client's as the trusted proxies report it. */
function originOf(request: Request): DeliveryOrigin {
  const id: unknown = (request as Request & { id?: unknown }).id;
  return { requestId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined, sourceIp: request.ip };
}
