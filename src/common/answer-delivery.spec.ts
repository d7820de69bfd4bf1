import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { trackAnswerDelivery, whenAnswerDelivered } from './answer-delivery.js';

/** The parts of a response whenAnswerDelivered reads. */
class FakeResponse extends EventEmitter {
  headersSent = false;
  destroyed = false;
  statusCode = 200;
}

/** Runs `work` as the handler of a request whose response is `response`. */
function inRequest(response: FakeResponse, work: () => void): void {
  trackAnswerDelivery()({} as Request, response as unknown as Response, work);
}

describe('whenAnswerDelivered', () => {
  it('calls back once the answer has gone out whole with a success status', () => {
    const response = new FakeResponse();
    const delivered = jest.fn();
    inRequest(response, () => whenAnswerDelivered(delivered));
    expect(delivered).not.toHaveBeenCalled();
    response.statusCode = 201;
    response.emit('finish');
    expect(delivered).toHaveBeenCalledTimes(1);
  });

  it('never calls back when an error went out instead', () => {
    const response = new FakeResponse();
    const delivered = jest.fn();
    inRequest(response, () => whenAnswerDelivered(delivered));
    response.statusCode = 500;
    response.emit('finish');
    expect(delivered).not.toHaveBeenCalled();
  });

  it('never calls back when another answer (a 504) was sent first, or the caller is gone', () => {
    const answered = Object.assign(new FakeResponse(), { headersSent: true });
    const gone = Object.assign(new FakeResponse(), { destroyed: true });
    const delivered = jest.fn();
    inRequest(answered, () => whenAnswerDelivered(delivered));
    inRequest(gone, () => whenAnswerDelivered(delivered));
    answered.emit('finish');
    expect(delivered).not.toHaveBeenCalled();
  });

  it('never calls back when the connection closed before the answer was sent', () => {
    const response = new FakeResponse();
    const delivered = jest.fn();
    inRequest(response, () => whenAnswerDelivered(delivered));
    response.emit('close');
    expect(delivered).not.toHaveBeenCalled();
  });

  it('calls back at once outside an HTTP request (the CLI, a test): there is no answer to wait for', () => {
    const delivered = jest.fn();
    whenAnswerDelivered(delivered);
    expect(delivered).toHaveBeenCalledTimes(1);
  });
});
