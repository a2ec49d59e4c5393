// A photo from the device's camera, made small for a poor link: drawn onto a canvas at most
// 1600 px on its longest side and encoded again as JPEG. Drawing keeps only the pixels, so
// the camera's metadata (EXIF: the place, the time, the device) does not leave the phone.

export const LONGEST_SIDE = 1600;
const QUALITY = 0.8;

/** `file` as a JPEG at most LONGEST_SIDE px on its longest side, with no metadata. */
export async function compressPhoto(file: Blob): Promise<Blob> {
  // createImageBitmap turns the picture upright as its EXIF orientation says (the default
  // of 'from-image'), before the orientation tag is dropped with the rest.
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no canvas');
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/jpeg', QUALITY));
  if (!blob) throw new Error('the photo could not be encoded');
  return blob;
}
