// The camera: live preview, one still frame as a JPEG blob, and the stream stopped at once.

export class CameraUnavailable extends Error {}

// Plain-language reasons, each ending with what to do instead.
export function cameraProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Camera access was denied. You can allow it in your browser's site settings, or upload a photo instead.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "No camera was found on this device. Upload a photo instead.";
  }
  if (name === "NotReadableError" || name === "TrackStartError") {
    return "The camera is busy in another app. Close that app and try again, or upload a photo instead.";
  }
  if (error instanceof CameraUnavailable) return error.message;
  return "The camera could not be started. Upload a photo instead.";
}

export class Camera {
  constructor(video) {
    this.video = video;
    this.stream = null;
  }

  static unavailableReason() {
    if (!window.isSecureContext) {
      return "The camera only works over a secure (https) connection. Upload a photo instead.";
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "This browser cannot use a camera here. Upload a photo instead.";
    }
    return null;
  }

  async start() {
    const reason = Camera.unavailableReason();
    if (reason) throw new CameraUnavailable(reason);
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    if (!this.video.videoWidth) {
      await new Promise((resolve) => this.video.addEventListener("loadedmetadata", resolve, { once: true }));
    }
  }

  get active() {
    return this.stream !== null;
  }

  // Draws the current frame, stops the stream, and resolves to a JPEG blob.
  async capture() {
    const { videoWidth: width, videoHeight: height } = this.video;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(this.video, 0, 0, width, height);
    this.stop();
    return new Promise((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("capture failed"))), "image/jpeg", 0.92);
    });
  }

  stop() {
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
    }
    this.stream = null;
    this.video.srcObject = null;
  }
}
